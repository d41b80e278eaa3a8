"""Stylesheets, scripts and icons; shipped as the package radio.static."""
