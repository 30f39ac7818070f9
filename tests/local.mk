# tests module
