"""The ops: each a Function with its forward (arrays) and backward (Tensors) side by side."""
