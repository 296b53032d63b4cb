print("producer-example: not built yet")
