"""The study's steps: each reads its inputs and writes an output folder."""
