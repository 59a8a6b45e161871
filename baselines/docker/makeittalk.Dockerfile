# MakeItTalk (yzhou359/MakeItTalk @ fad2fe46) inference environment, CPU.
# UNTESTED: written on a machine with the docker client but no daemon (see docs/baselines.md). The upstream
# targets Python 3.6 and pins wheels that do not exist for Python 3.11.
#
#   docker build -t ttsf-makeittalk -f baselines/docker/makeittalk.Dockerfile baselines/docker
#   export TTSF_MAKEITTALK_DOCKER_IMAGE=ttsf-makeittalk
#   python -m baselines setup makeittalk      # lays out the code (the image holds only the env)
#
# The adapter runs `docker run --rm -v CHECKOUT:CHECKOUT -v /tmp:/tmp -w CHECKOUT IMAGE python
# main_end2end.py ...`. The code and checkpoints stay in the checkout on the host.
FROM python:3.6-slim-buster
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg build-essential libsndfile1 \
    && rm -rf /var/lib/apt/lists/*
# torch: README names no version; 1.7.1 (CPU) was current at the pinned commit.
RUN pip install --no-cache-dir torch==1.7.1+cpu -f https://download.pytorch.org/whl/torch_stable.html
# requirements.txt of the pinned commit is unpinned: these are Python 3.6-era releases (quick_demo.ipynb's
# Colab install shows face_alignment 1.1.1, pysptk 0.1.18, pyworld 0.2.12, resemblyzer 0.1.1.dev0, pynormalize 0.1.4)
RUN pip install --no-cache-dir numpy==1.19.5 Cython==0.29.21 \
    && pip install --no-cache-dir ffmpeg-python==0.2.0 opencv-python==4.4.0.46 face_alignment==1.1.1 \
       scikit-learn==0.23.2 pydub==0.24.1 pynormalize==0.1.4 soundfile==0.10.3.post1 librosa==0.8.0 \
       pysptk==0.1.18 pyworld==0.2.12 resemblyzer==0.1.1.dev0 tensorboardX==2.1
# face_alignment downloads its detector (s3fd) and 3D-FAN weights on first use into
# ~/.cache/torch/hub/checkpoints: mount a folder holding s3fd-619a316812.pth and
# 3DFAN4-4a694010b9.zip there (docker run -v HOST_DIR:/root/.cache/torch/hub/checkpoints).
