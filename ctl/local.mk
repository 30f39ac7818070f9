# ctl module
