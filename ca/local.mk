# ca module
