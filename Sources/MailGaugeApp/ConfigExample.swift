/// `mailgauge config example`: the fully commented example config (deploy/config.example.yml,
/// embedded at build time so the installed binary needs no data files).
public enum ConfigExample {
    public static var text: String { String(decoding: PackageResources.config_example_yml, as: UTF8.self) }
}
