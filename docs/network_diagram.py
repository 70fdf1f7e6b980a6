"""Draw docs/network.png (the README's figure) from the model's wiring: python docs/network_diagram.py.
The same figure as the model reference's (thymosim.sbml.network.draw_network); the docs build redraws both."""

from pathlib import Path

from thymosim.sbml.network import draw_network

if __name__ == "__main__":
    path = Path(__file__).with_name("network.png")
    print(f"{'wrote' if draw_network(path) else 'unchanged'} {path}")
