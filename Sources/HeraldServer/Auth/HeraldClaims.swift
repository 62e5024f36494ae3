import JWTKit

/// The JWT payload (docs/protocol.md, Authentication). Ids may be strings or JSON numbers, so the claims are decoded by hand.
///
/// `verify(using:)` only checks that the claims Herald needs are present. The time and issuer checks need the
/// configured leeway, issuer and audience, so ``TokenVerifier`` does them right after the signature is checked;
/// jwt-kit checks nothing on its own.
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

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sub = try Self.identifier(container, .sub)
        exp = try Self.number(container, .exp)
        nbf = try Self.number(container, .nbf)
        iat = try Self.number(container, .iat)
        iss = try container.decodeIfPresent(String.self, forKey: .iss)
        if let single = try? container.decodeIfPresent(String.self, forKey: .aud) {
            aud = [single]
        } else {
            aud = try container.decodeIfPresent([String].self, forKey: .aud)
        }
        locationID = try Self.identifier(container, .locationID)
        let many = try container.decodeIfPresent([JSONValue].self, forKey: .locations) ?? []
        locations = try many.map { value in
            guard let id = value.identifierValue else {
                throw DecodingError.dataCorruptedError(
                    forKey: .locations, in: container, debugDescription: "locations must hold strings or numbers")
            }
            return id
        }
        role = try container.decodeIfPresent(String.self, forKey: .role)
        if let text = try? container.decodeIfPresent(String.self, forKey: .scope) {
            scope = text
        } else {
            scope = try container.decodeIfPresent([String].self, forKey: .scope)?.joined(separator: " ")
        }
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

    private static func identifier(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> String?
    {
        guard let value = try container.decodeIfPresent(JSONValue.self, forKey: key), !value.isNull else { return nil }
        guard let id = value.identifierValue else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "\(key.rawValue) must be a string or a number")
        }
        return id
    }

    private static func number(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Double? {
        guard let value = try container.decodeIfPresent(JSONValue.self, forKey: key), !value.isNull else { return nil }
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default:
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "\(key.rawValue) must be a number")
        }
    }
}
