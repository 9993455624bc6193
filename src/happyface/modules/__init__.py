"""The built-in module types; each registers through the `happyface.modules` entry points."""
