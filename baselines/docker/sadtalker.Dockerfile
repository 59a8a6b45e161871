# SadTalker (OpenTalker/SadTalker @ cd4c0465) inference environment, CPU, with the
# upstream's own pins (README: Python 3.8, torch 1.12.1). UNTESTED: written on a machine
# without Docker. Use it if the Python 3.11 venv of `python -m baselines setup sadtalker`
# fails for you (docs/baselines.md).
#
#   docker build -t ttsf-sadtalker -f baselines/docker/sadtalker.Dockerfile baselines/docker
#   export TTSF_SADTALKER_PYTHON=...   # or run inference.py inside the image by hand
FROM python:3.8-slim-bullseye
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg build-essential libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir torch==1.12.1+cpu torchvision==0.13.1+cpu torchaudio==0.12.1 \
    --extra-index-url https://download.pytorch.org/whl/cpu
# requirements.txt of the pinned commit (gradio left out: web UI only)
RUN pip install --no-cache-dir numpy==1.23.4 face_alignment==1.3.5 imageio==2.19.3 imageio-ffmpeg==0.4.7 \
    librosa==0.9.2 numba resampy==0.3.1 pydub==0.25.1 scipy==1.10.1 kornia==0.6.8 tqdm yacs==0.1.8 pyyaml \
    joblib==1.1.0 scikit-image==0.19.3 basicsr==1.4.2 facexlib==0.3.0 gfpgan dlib-bin av safetensors
