# schema module
