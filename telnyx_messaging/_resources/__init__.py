"""One module per API resource group; each method builds a request, sends it, parses it."""
