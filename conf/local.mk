# conf module
