"""Plots (data and an ax in, artists out), the figures built from run folders, and the HTML report."""
