"""Transfers between branches: requests and the steps that move the stock."""
