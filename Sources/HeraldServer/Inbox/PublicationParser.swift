import Foundation
import NIOCore

/// Validates a `POST /notifications` body field by field, collecting every problem in FastAPI's 422 shape
/// rather than stopping at the first, so a backend developer fixes a request in one round trip.
public struct PublicationParser: Sendable {
    public static let maxRecipients = 1000
    public static let maxDataBytes = 32 * 1024
    static let priorities: Set<String> = ["low", "medium", "high", "urgent"]

    public let notificationTypes: Set<String>

    public init(notificationTypes: Set<String>) {
        self.notificationTypes = notificationTypes
    }

    /// The publication a request's body holds; an empty or missing body is a missing one.
    func parse(body: ByteBuffer?, idempotencyHeader: String?, publisher: String) throws -> Publication {
        var json: JSONValue?
        if let body, body.readableBytes > 0 {
            guard let parsed = JSONValue.parse(body.readableBytesView) else {
                throw HeraldError.validation([.init([.name("body")], "JSON decode error", type: "json_invalid")])
            }
            json = parsed
        }
        return try parse(json, idempotencyHeader: idempotencyHeader, publisher: publisher)
    }

    public func parse(
        _ body: JSONValue?, idempotencyHeader: String?, publisher: String
    ) throws -> Publication {
        guard let body else {
            throw HeraldError.validation([.init([.name("body")], "Field required", type: "missing")])
        }
        guard let fields = body.objectValue else {
            throw HeraldError.validation([
                .init([.name("body")], "Input should be a valid dictionary", type: "dict_type")
            ])
        }
        var issues: [ValidationIssue] = []
        let target = parseTarget(fields, &issues)
        let type = requiredString(fields, "type", maxLength: 64, &issues)
        if let type, !notificationTypes.contains(type) {
            let allowed = notificationTypes.sorted().map { "'\($0)'" }.joined(separator: ", ")
            issues.append(.body("type", "Input should be one of \(allowed)", type: "enum"))
        }
        var priority = "medium"
        if let value = fields["priority"], !value.isNull {
            if let text = value.stringValue, Self.priorities.contains(text) {
                priority = text
            } else {
                issues.append(.body("priority", "Input should be 'low', 'medium', 'high' or 'urgent'", type: "enum"))
            }
        }
        let title = requiredString(fields, "title", minLength: 1, maxLength: 200, &issues)
        let message = requiredString(fields, "message", maxLength: 1000, &issues)
        let dataJSON = self.dataJSON(fields, maxBytes: Self.maxDataBytes, &issues)
        let actionURL = optionalString(fields, "action_url", maxLength: 500, &issues)
        let collapseKey = optionalString(fields, "collapse_key", minLength: 1, maxLength: 200, &issues)
        var idempotencyKey = optionalString(fields, "idempotency_key", minLength: 1, maxLength: 200, &issues)
        if let header = idempotencyHeader {
            if header.isEmpty || header.utf8.count > 200 || !header.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) {
                issues.append(
                    .init(
                        [.name("header"), .name("Idempotency-Key")], "must be 1 to 200 visible ASCII characters",
                        type: "value_error"))
            } else {
                // The header wins over the body field, as the API document says.
                idempotencyKey = header
            }
        }
        var expiresAt: Date?
        if let text = optionalString(fields, "expires_at", maxLength: 64, &issues) {
            // A time already past is accepted, as the document says: the notification is stored and never shown.
            // Anything before 1970 means the same and is stored as 1970, which every database type can hold.
            if let date = Timestamp.parse(text) {
                expiresAt = max(date, Date(timeIntervalSince1970: 0))
            } else {
                issues.append(.body("expires_at", "Input should be a valid datetime", type: "datetime_parsing"))
            }
        }
        guard issues.isEmpty, let target, let type, let title, let message else { throw HeraldError.validation(issues) }
        return Publication(
            target: target, type: type, priority: priority, title: title, message: message, dataJSON: dataJSON,
            actionURL: actionURL, expiresAt: expiresAt, collapseKey: collapseKey, idempotencyKey: idempotencyKey,
            publisher: publisher)
    }

    /// Exactly one of `user_id`, `user_ids`, `location_id`, `broadcast: true`.
    func parseTarget(_ fields: [String: JSONValue], _ issues: inout [ValidationIssue]) -> Publication.Target? {
        var targets: [Publication.Target] = []
        let before = issues.count
        if let value = fields["user_id"], !value.isNull {
            if let id = identifier(value, "user_id", &issues) { targets.append(.users([id])) }
        }
        if let value = fields["user_ids"], !value.isNull {
            if case .array(let elements) = value {
                if elements.isEmpty || elements.count > Self.maxRecipients {
                    issues.append(
                        .body("user_ids", "user_ids must hold 1 to \(Self.maxRecipients) ids", type: "value_error"))
                } else {
                    var seen = Set<String>()
                    var ids: [String] = []
                    for (index, element) in elements.enumerated() {
                        guard let id = element.identifierValue, !id.isEmpty, id.unicodeScalars.count <= 200,
                            !id.utf8.contains(0)
                        else {
                            issues.append(
                                .init(
                                    [.name("body"), .name("user_ids"), .index(index)], "Input should be a valid id",
                                    type: "string_type"))
                            continue
                        }
                        if seen.insert(id).inserted { ids.append(id) }
                    }
                    targets.append(.users(ids))
                }
            } else {
                issues.append(.body("user_ids", "Input should be a valid list", type: "list_type"))
            }
        }
        if let value = fields["location_id"], !value.isNull {
            if let id = identifier(value, "location_id", &issues) { targets.append(.location(id)) }
        }
        if let value = fields["broadcast"], !value.isNull {
            if case .bool(let flag) = value {
                if flag { targets.append(.broadcast) }
            } else {
                issues.append(.body("broadcast", "Input should be a valid boolean", type: "bool_type"))
            }
        }
        guard issues.count == before else { return nil }
        guard targets.count == 1 else {
            issues.append(
                .init(
                    [.name("body")], "exactly one of user_id, user_ids, location_id or broadcast: true is required",
                    type: "value_error"))
            return nil
        }
        return targets[0]
    }

    /// The optional `data` object as JSON text (`{}` when absent), at most `maxBytes` of it.
    func dataJSON(_ fields: [String: JSONValue], maxBytes: Int, _ issues: inout [ValidationIssue]) -> String {
        guard let value = fields["data"], !value.isNull else { return "{}" }
        guard case .object = value else {
            issues.append(.body("data", "Input should be a valid dictionary", type: "dict_type"))
            return "{}"
        }
        if value.containsNUL {
            issues.append(.body("data", "data must not contain NUL characters", type: "value_error"))
            return "{}"
        }
        let text = value.jsonText
        if text.utf8.count > maxBytes {
            issues.append(.body("data", "data must be at most \(maxBytes) bytes of JSON", type: "value_error"))
        }
        return text
    }

    private func identifier(_ value: JSONValue, _ field: String, _ issues: inout [ValidationIssue]) -> String? {
        guard let id = value.identifierValue, !id.isEmpty, id.unicodeScalars.count <= 200, !id.utf8.contains(0) else {
            issues.append(
                .body(field, "Input should be a string or integer of 1 to 200 characters", type: "string_type"))
            return nil
        }
        return id
    }

    private func requiredString(
        _ fields: [String: JSONValue], _ name: String, minLength: Int = 0, maxLength: Int,
        _ issues: inout [ValidationIssue]
    ) -> String? {
        guard let value = fields[name], !value.isNull else {
            issues.append(.body(name, "Field required", type: "missing"))
            return nil
        }
        return checkedString(value, name, minLength: minLength, maxLength: maxLength, &issues)
    }

    private func optionalString(
        _ fields: [String: JSONValue], _ name: String, minLength: Int = 0, maxLength: Int,
        _ issues: inout [ValidationIssue]
    ) -> String? {
        guard let value = fields[name], !value.isNull else { return nil }
        return checkedString(value, name, minLength: minLength, maxLength: maxLength, &issues)
    }

    /// Lengths count Unicode scalars, as JSON Schema and FastAPI do, not Swift's grapheme clusters, so the limits
    /// in `/openapi.json` mean what they say.
    private func checkedString(
        _ value: JSONValue, _ name: String, minLength: Int, maxLength: Int, _ issues: inout [ValidationIssue]
    ) -> String? {
        guard let text = value.stringValue else {
            issues.append(.body(name, "Input should be a valid string", type: "string_type"))
            return nil
        }
        if text.unicodeScalars.count < minLength {
            issues.append(.body(name, "String should have at least \(minLength) character", type: "string_too_short"))
            return nil
        }
        if text.unicodeScalars.count > maxLength {
            issues.append(.body(name, "String should have at most \(maxLength) characters", type: "string_too_long"))
            return nil
        }
        if text.utf8.contains(0) {
            issues.append(.body(name, "String must not contain NUL characters", type: "value_error"))
            return nil
        }
        return text
    }
}
