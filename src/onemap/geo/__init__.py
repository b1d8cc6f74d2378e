"""Geometry rules: official area, CRS handling, validity."""
