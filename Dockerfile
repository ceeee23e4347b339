# Base image: the Lambda Node.js 22 runtime with the compiled handlers and production dependencies
# only. No model: Dockerfile.variant adds one. Build: docker build -t serverless-vectorizer:base .
ARG NODE_IMAGE=public.ecr.aws/lambda/nodejs:22

FROM ${NODE_IMAGE} AS build
WORKDIR /build
ENV ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
# The deployable only: the handlers and what they share (tsconfig.build.json compiles these two
# folders; the benchmark, the local stack and the tests stay out of the image).
COPY functions ./functions
COPY shared ./shared
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --no-audit --no-fund \
 # onnxruntime-node ships binaries for every platform (about 288 MB): keep this one only.
 && arch=$(node -p "process.arch") \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 -type d ! -path "*/linux/${arch}" -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 -type d ! -name linux -exec rm -rf {} + \
 # LanceDB declares its embedding providers (transformers.js 3 with ONNX Runtime 1.19, an OpenAI
 # client) as optional dependencies; this project embeds with its own engine and never loads them
 # (about 330 MB). npm has no switch to omit one package's optional dependencies only.
 && rm -rf node_modules/@lancedb/lancedb/node_modules

FROM ${NODE_IMAGE}
# Where Dockerfile.variant puts the model; the runtime reads MODEL_DIR.
ENV MODEL_DIR=/opt/model \
    NODE_OPTIONS=--enable-source-maps \
    POWERTOOLS_SERVICE_NAME=serverless-vectorizer
COPY --from=build /build/package.json ${LAMBDA_TASK_ROOT}/package.json
COPY --from=build /build/node_modules ${LAMBDA_TASK_ROOT}/node_modules
COPY --from=build /build/dist ${LAMBDA_TASK_ROOT}/dist
# The invoke handler by default; the worker function overrides the command (serverless.yml).
CMD ["dist/functions/invoke.handler"]
