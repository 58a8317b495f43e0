"""Synthetic demo data: a deterministic feed generator with ground truth, and an HTTP simulator
for the court's dishonest-debtor API."""
