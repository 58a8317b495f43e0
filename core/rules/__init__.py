"""Rules a deployment configures: severity and publicity periods, the credit grade, sharing and
masking, and the rules file that overrides their defaults."""
