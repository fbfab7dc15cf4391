"""Impact: did it work here? Quasi-experimental estimates of an innovation's effect on
councils' outcomes, fed back into the evidence hub as studies."""
