/// The OpenAPI 3.1 document of what this server implements, served at `/openapi.json`. It is written by hand in
/// `Resources/openapi.json` and held to the routes by tests: `OpenAPITests` compares its operations and their
/// statuses with the router's, and schemathesis checks the server's answers against it.
///
/// Two values are this deployment's and are set here, in the parsed document, from the one Swift source of each:
/// the notification types (`NOTIFICATION_TYPES` and the base set) and the server's version.
enum OpenAPIDocument {
    /// The document with `notificationTypes` and `version` filled in, as compact JSON.
    static func render(template: [UInt8], notificationTypes: Set<String>, version: String) -> [UInt8] {
        guard case .object(var document)? = JSONValue.parse(template) else {
            preconditionFailure("Resources/openapi.json is not a JSON object")
        }
        document["info"] = document["info"].map { info in
            var info = info.objectValue ?? [:]
            info["version"] = .string(version)
            return .object(info)
        }
        if case .object(var components)? = document["components"], case .object(var schemas)? = components["schemas"],
            case .object(var type)? = schemas["NotificationType"]
        {
            type["enum"] = .array(notificationTypes.sorted().map(JSONValue.string))
            schemas["NotificationType"] = .object(type)
            components["schemas"] = .object(schemas)
            document["components"] = .object(components)
        }
        var writer = JSONWriter(reservingCapacity: template.count)
        writer.value(.object(document))
        return writer.bytes
    }
}
