# ident module
