"""A face-swap detector trained on self-blended images (Shiohara & Yamasaki, CVPR 2022):
pseudo-fakes made by blending a real face with a transformed copy of itself, so no fake
imagery is needed. Off by default: see docs/synthetic.md for what it measured."""
