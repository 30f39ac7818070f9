# server module
