"""The headless `sdrl` command line; each command group lives in its own module and is imported only when used."""
