"""Differentiable ops. Each is a ``Function`` whose forward and backward work on arrays;
``elementwise``, ``reduce`` and ``shape`` hold the generic ones (NumPy or CuPy array code),
``layers`` the CNN layers that call the device backends."""
