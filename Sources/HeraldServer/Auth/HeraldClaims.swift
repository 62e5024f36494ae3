import JWTKit

/// The JWT payload (docs/protocol.md, Authentication). Ids may be strings or JSON numbers, so the claims are read
/// by hand, from the parsed JSON (``init(json:)``).
///
/// It is a `JWTPayload` so that jwt-kit can mint tokens (`herald token`, the tests). Verification does not go
/// through jwt-kit's payload handling: ``TokenVerifier`` checks the signature with jwt-kit's algorithm, then reads
/// the claims and applies every check that needs the configured leeway, issuer and audience.
/// `verify(using:)` is kept for jwt-kit's protocol and only checks that the claims Herald needs are present.
public struct HeraldClaims: JWTPayload, Equatable {
    public var sub: String?
    public var exp: Double?
    public var nbf: Double?
    public var iat: Double?
    public var iss: String?
    public var aud: [String]?
    public var locationID: String?
    public var locations: [String]
    public var role: String?
    public var scope: String?

    public init(
        sub: String?, exp: Double?, nbf: Double? = nil, iat: Double? = nil, iss: String? = nil, aud: [String]? = nil,
        locationID: String? = nil, locations: [String] = [], role: String? = nil, scope: String? = nil
    ) {
        self.sub = sub
        self.exp = exp
        self.nbf = nbf
        self.iat = iat
        self.iss = iss
        self.aud = aud
        self.locationID = locationID
        self.locations = locations
        self.role = role
        self.scope = scope
    }

    enum CodingKeys: String, CodingKey {
        case sub, exp, nbf, iat, iss, aud, role, scope, locations
        case locationID = "location_id"
    }

    /// Reads the claims the way every token is read (``TokenVerifier`` parses the payload with ``JSONParser``).
    /// A claim that is present must have its type; `null` counts as absent; unknown claims are ignored.
    public init(json: JSONValue) throws {
        guard case .object(let claims) = json else { throw ClaimError("the claims are not an object") }
        func present(_ key: CodingKeys) -> JSONValue? {
            guard let value = claims[key.rawValue], !value.isNull else { return nil }
            return value
        }
        func identifier(_ key: CodingKeys) throws -> String? {
            guard let value = present(key) else { return nil }
            guard let id = value.identifierValue else {
                throw ClaimError("\(key.rawValue) must be a string or a number")
            }
            return id
        }
        func number(_ key: CodingKeys) throws -> Double? {
            switch present(key) {
            case nil: return nil
            case .int(let number)?: return Double(number)
            case .double(let number)?: return number
            default: throw ClaimError("\(key.rawValue) must be a number")
            }
        }
        func string(_ key: CodingKeys) throws -> String? {
            guard let value = present(key) else { return nil }
            guard let text = value.stringValue else { throw ClaimError("\(key.rawValue) must be a string") }
            return text
        }
        /// A string, or an array of strings.
        func strings(_ key: CodingKeys) throws -> [String]? {
            switch present(key) {
            case nil: return nil
            case .string(let single)?: return [single]
            case .array(let elements)?:
                return try elements.map {
                    guard let text = $0.stringValue else { throw ClaimError("\(key.rawValue) must hold strings") }
                    return text
                }
            default: throw ClaimError("\(key.rawValue) must be a string or an array of strings")
            }
        }
        sub = try identifier(.sub)
        exp = try number(.exp)
        nbf = try number(.nbf)
        iat = try number(.iat)
        iss = try string(.iss)
        aud = try strings(.aud)
        locationID = try identifier(.locationID)
        switch present(.locations) {
        case nil: locations = []
        case .array(let elements)?:
            locations = try elements.map {
                guard let id = $0.identifierValue else { throw ClaimError("locations must hold strings or numbers") }
                return id
            }
        default: throw ClaimError("locations must be an array")
        }
        role = try string(.role)
        scope = try strings(.scope)?.joined(separator: " ")
    }

    /// `JWTPayload` requires `Decodable`; whatever decodes claims this way (a test, jwt-kit's own `verify`, which
    /// Herald no longer calls) reads them as ``init(json:)`` does.
    public init(from decoder: any Decoder) throws {
        try self.init(json: try JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(sub, forKey: .sub)
        try container.encodeIfPresent(exp.map { Int64($0) }, forKey: .exp)
        try container.encodeIfPresent(nbf.map { Int64($0) }, forKey: .nbf)
        try container.encodeIfPresent(iat.map { Int64($0) }, forKey: .iat)
        try container.encodeIfPresent(iss, forKey: .iss)
        try container.encodeIfPresent(aud, forKey: .aud)
        try container.encodeIfPresent(locationID, forKey: .locationID)
        if !locations.isEmpty { try container.encode(locations, forKey: .locations) }
        try container.encodeIfPresent(role, forKey: .role)
        try container.encodeIfPresent(scope, forKey: .scope)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        guard let sub, !sub.isEmpty else { throw HeraldError.unauthorized("token has no sub") }
        guard exp != nil else { throw HeraldError.unauthorized("token has no exp") }
    }

    /// The union of `location_id` and `locations`.
    public var allLocations: [String] {
        (locationID.map { [$0] } ?? []) + locations
    }

    /// Why a token's claims could not be read; ``TokenVerifier`` answers it as a malformed token.
    struct ClaimError: Error {
        let problem: String
        init(_ problem: String) { self.problem = problem }
    }
}
