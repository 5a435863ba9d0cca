// swift-tools-version:6.0
import PackageDescription

/// Strict settings for every target (see ../shared/style.md): Swift 6 language mode with
/// complete concurrency checking, `any` spelled out, and imports that must be explicit.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "mailgauge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mailgauge", targets: ["mailgauge"]),
        .executable(name: "mailgauge-bench", targets: ["mailgauge-bench"]),
        .library(name: "IMAPCore", targets: ["IMAPCore"]),
        .library(name: "IMAPClient", targets: ["IMAPClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // Pure IMAP grammar: parser, typed responses, command encoder, modified UTF-7.
        .target(name: "IMAPCore", swiftSettings: strict),
        // What the IMAP and SMTP clients share: the TLS policy and contexts, the bootstrap,
        // the transport guard (credentials only after a completed handshake; STARTTLS
        // injection refused), reading connect and TLS failures; the TLS policy, the reading
        // of TLS failures and how a URL is shown are the doveadm API client's too.
        .target(
            name: "ClientNetworking",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // Async IMAP connection on SwiftNIO: TLS modes, STARTTLS, authentication, tags, timeouts.
        .target(
            name: "IMAPClient",
            dependencies: [
                "IMAPCore", "ClientNetworking",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // A child process that inherits nothing it has no use for and cannot outlive its
        // deadline (password_command, sendmail).
        .target(name: "ChildProcess", swiftSettings: strict),
        // Pure domain values: a mailbox snapshot, quota state, sizes and their rendering.
        .target(name: "MailGaugeCore", swiftSettings: strict),
        // The probe of one account (strategy + execution), the run over many accounts, and
        // the bulk quota readings (Cyrus admin GETQUOTA, the doveadm HTTP API).
        .target(
            name: "Collector",
            dependencies: [
                "IMAPCore", "IMAPClient", "ClientNetworking", "MailGaugeCore",
                .product(name: "Logging", package: "swift-log"),
                // The doveadm HTTP API (DoveadmClient).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
        // SMTP: reply parser, message composer (MIME, RFC 2047, dot-stuffing) and the async
        // client on SwiftNIO (implicit TLS, STARTTLS fail-closed, AUTH PLAIN/LOGIN).
        .target(
            name: "SMTPClient",
            dependencies: [
                "ClientNetworking",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Alert channels: the notice texts (Mustache templates, en + zh-CN), email through
        // SMTP or sendmail, webhooks (generic JSON, Alertmanager API v2).
        .target(
            name: "Notify",
            dependencies: [
                "SMTPClient", "ClientNetworking", "MailGaugeCore", "ChildProcess",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // YAML config into typed values; strict, every error with file:line:column.
        .target(name: "Config", dependencies: ["Yams"], swiftSettings: strict),
        // History in SQLite through GRDB: migrations, runs, samples, retention, queries.
        .target(
            name: "Store",
            dependencies: ["MailGaugeCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        // Prometheus text format from the stored state; the atomic textfile writer.
        .target(
            name: "Exposition",
            dependencies: [
                "MailGaugeCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Presentation, pure over read models: the report and history renderings, the HTML
        // pages and their chart, the Nagios plugin output.
        .target(name: "Presentation", dependencies: ["MailGaugeCore"], swiftSettings: strict),
        // The commands' logic (run, report, history, secrets), so the executable stays thin.
        .target(
            name: "MailGaugeApp",
            dependencies: [
                "Config", "Collector", "Store", "Exposition", "MailGaugeCore", "IMAPCore", "IMAPClient", "ClientNetworking", "Notify", "SMTPClient",
                "ChildProcess", "Presentation",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // deploy/config.example.yml (symlinked), compiled in for `mailgauge config example`.
            resources: [.embedInCode("config.example.yml")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "mailgauge",
            dependencies: [
                "IMAPClient", "MailGaugeCore", "MailGaugeApp", "Config", "Store", "Notify", "Presentation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks that need no server (scripts/bench/benchmark metrics).
        .executableTarget(
            name: "mailgauge-bench",
            dependencies: ["Exposition", "Store", "MailGaugeCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IMAPCoreTests", dependencies: ["IMAPCore"],
            exclude: ["Transcripts"],  // read from the source tree: verbatim server bytes
            swiftSettings: strict
        ),
        .testTarget(name: "MailGaugeCoreTests", dependencies: ["MailGaugeCore"], swiftSettings: strict),
        .testTarget(
            name: "SMTPClientTests",
            dependencies: [
                "SMTPClient", "ClientNetworking", "ScriptedServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The IMAP client's channel handler on EmbeddedChannel (no sockets).
        .testTarget(
            name: "IMAPClientTests",
            dependencies: [
                "IMAPClient", "IMAPCore", "ClientNetworking", "Collector", "MailGaugeCore", "ScriptedServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "NotifyTests", dependencies: ["Notify", "SMTPClient", "MailGaugeCore", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        .testTarget(name: "ConfigTests", dependencies: ["Config"], swiftSettings: strict),
        .testTarget(name: "MailGaugeAppTests", dependencies: ["MailGaugeApp", "Config", "MailGaugeCore"], swiftSettings: strict),
        .testTarget(name: "PresentationTests", dependencies: ["Presentation", "MailGaugeCore"], swiftSettings: strict),
        .testTarget(
            name: "ClientNetworkingTests",
            dependencies: [
                "ClientNetworking",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "ExpositionTests", dependencies: ["Exposition", "MailGaugeCore"], swiftSettings: strict),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "MailGaugeCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "CollectorTests",
            dependencies: ["Collector", "IMAPClient", "IMAPCore", "MailGaugeCore", "ClientNetworking",
                           .product(name: "Logging", package: "swift-log")],
            exclude: ["Transcripts"],  // read from the source tree: verbatim server bytes
            swiftSettings: strict
        ),
        // Test support: a scripted IMAP/SMTP server whose job is to misbehave (faults,
        // meddlers, floods), shared by the client and integration tests.
        .target(
            name: "ScriptedServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/Support/ScriptedServer",
            swiftSettings: strict
        ),
        // Against the project's own Dovecot (scripts/servers/dovecot) and a scripted misbehaving server.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "mailgauge", "IMAPClient", "IMAPCore", "Collector", "MailGaugeCore", "Store", "SMTPClient", "ScriptedServer", "ClientNetworking",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict
        ),
    ]
)
