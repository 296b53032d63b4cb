print("kernel-fuzz: not built yet")
