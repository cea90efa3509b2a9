"""pytest plugin: collects ``*.recipe.yaml`` files and runs them (see the recipes issue)."""
