# tmpl module
