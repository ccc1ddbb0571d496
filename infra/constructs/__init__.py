"""CDK constructs: one capability each. Stacks only compose them."""
