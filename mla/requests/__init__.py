"""Requests for assistance or extradition: the model, reference numbers and the service."""
