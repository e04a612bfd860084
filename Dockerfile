# trainbot: a static binary on a minimal, non-root image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/trainbot ./cmd/trainbot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/trainbot /usr/local/bin/trainbot
USER nonroot:nonroot
ENV TRAINBOT_DATA_DIR=/var/lib/trainbot TRAINBOT_HTTP_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/trainbot"]
CMD ["serve"]
