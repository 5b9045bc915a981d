"""Rate limits for the public endpoints, counted in the database so every web process
shares them."""
