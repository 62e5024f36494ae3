/// The key a notification is filed under (the `audience` column): `u:<user>`, `l:<location>` or `*`.
/// One indexed column for all three targets lets a single index range serve each part of an inbox.
public enum Audience {
    public static let broadcast = "*"

    public static func user(_ id: String) -> String { "u:" + id }

    public static func location(_ id: String) -> String { "l:" + id }
}
