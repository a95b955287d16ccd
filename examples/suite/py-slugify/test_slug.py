from slug import slugify

assert slugify("Hello World") == "hello-world", slugify("Hello World")
assert slugify("  Real Cost ") == "real-cost", slugify("  Real Cost ")
print("ok")
