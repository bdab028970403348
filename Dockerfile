# dskafka on NVIDIA DeepStream: the shim built against the SDK of NVIDIA's DeepStream
# image, with its deepstream backend, and the single dskafka binary that `deno compile`
# makes from it, which is the entry point. docs/deepstream.md has the details.
#
# NVIDIA publishes the DeepStream images in its NGC container registry only. Pass that
# registry's host name (the one in the pull command of DeepStream's NGC catalog page):
#
#   docker build --build-arg NGC_REGISTRY=<host> -t dskafka:deepstream .
#   docker build --build-arg NGC_REGISTRY=<host> \
#     --build-arg DEEPSTREAM_TAG=7.0-triton-multiarch -t dskafka:deepstream-7.0 .
#   docker run --rm --gpus all dskafka:deepstream --help
#
# The build needs the network: apt and npm packages, the npm dependencies of dskafka,
# and the runtime base that `deno compile` downloads.

ARG NGC_REGISTRY
ARG DEEPSTREAM_TAG=7.1-triton-multiarch
FROM ${NGC_REGISTRY}/nvidia/deepstream:${DEEPSTREAM_TAG}

# The SDK inside the image; the shim's Makefile reads this variable too.
ENV DEEPSTREAM_DIR=/opt/nvidia/deepstream/deepstream

# - build tools and GStreamer's development files, for the shim;
# - librdkafka and jansson, which the Kafka protocol adapter of the nvmsgbroker branch
#   (libnvds_kafka_proto.so) loads, and mosquitto, which recent nvtracker libraries
#   load; some DeepStream images lack them;
# - Node.js and npm, only to install Deno from its npm package.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential pkg-config ca-certificates \
      libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev \
      librdkafka1 libjansson4 libmosquitto1 \
      nodejs npm \
 && rm -rf /var/lib/apt/lists/*

# NVIDIA's images leave some GStreamer plugins out and ship this script to add them;
# images without it need nothing more.
RUN if [ -x "${DEEPSTREAM_DIR}/user_additional_install.sh" ]; then \
      "${DEEPSTREAM_DIR}/user_additional_install.sh"; \
    fi

RUN npm install -g deno@2.9.6 && deno --version

WORKDIR /opt/dskafka
COPY deno.json deno.loc[k] cli.ts ./
COPY ffi ffi
COPY src src
COPY schema schema
COPY configs configs
COPY cshim cshim

# Objects copied from a host build lack the SDK: start clean, and stop here unless the
# Makefile found the SDK headers.
RUN make -C cshim clean \
 && make -C cshim deepstream-status | grep -q "DeepStream SDK found" \
 && make -C cshim

# The compile task of deno.json: `make -C cshim` (nothing left to do) and
# `deno compile` with the shim embedded, into dist/dskafka.
RUN deno task compile && ./dist/dskafka --version

ENTRYPOINT ["/opt/dskafka/dist/dskafka"]
CMD ["--help"]
