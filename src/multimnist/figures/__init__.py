"""Figures, below the experiments that draw them and the report that shows them: `plots` holds the plot functions
(data and matplotlib axes in, artists out), `png` the figures built from them and written atomically as PNG files."""
