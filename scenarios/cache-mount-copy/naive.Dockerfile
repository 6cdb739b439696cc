# The second seed's Dockerfile as reported, with the seed's images replaced
# by placeholders (the chef image already has cargo-chef, so the seed's
# `RUN cargo install cargo-chef` is gone) and its binary named hello-world.
FROM {chef} AS chef
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/app/target \
    cargo build --release

FROM {runtime}
WORKDIR /app
COPY --from=builder /app/target/release/hello-world api
CMD [ "./api" ]
