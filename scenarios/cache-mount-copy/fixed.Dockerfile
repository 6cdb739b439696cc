# The second seed's fix: the binary leaves the cache mount in the same RUN,
# so the final COPY reads what this build produced.
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
    cargo build --release && mv target/release/hello-world /tmp/hello-world

FROM {runtime}
WORKDIR /app
COPY --from=builder /tmp/hello-world api
CMD [ "./api" ]
