import NIOCore
import NIOHTTP1

/// `POST /api/v1/notifications` for the common publish, answered on the event loop (``DirectRoute``): a token
/// already verified or cheap to verify, a principal whose locations are recorded, a publish the token alone
/// allows, and one notification without keys, which goes to group commit and is answered when its batch commits,
/// with no task in between.
///
/// It checks what the route group in front of ``InboxController``'s publish checks, in the same order and with the
/// same answers: the database gate (503), then the token (401), then the body (422) and the policy (403). A check
/// added to that group must be added here too; `PublishRouteTests` compares the two answers case by case. Every
/// other publish is left to that route: a principal whose locations are to be written, staff publishing to users
/// (a membership lookup), and a publish with an idempotency or collapse key or for several users (a transaction of
/// its own, ``PublishStore/publish(_:)``).
struct PublishRoute: DirectRoute {
    static let idempotencyHeader = "Idempotency-Key"

    let method = HTTPMethod.POST
    let path = ["api", "v1", "notifications"]

    let gate: DatabaseGate
    let verifier: TokenVerifier
    let membership: MembershipStore
    let parser: PublicationParser
    let publisher: PublishStore
    let metrics: HeraldMetrics

    func answer(_ request: DirectRequest) -> EventLoopFuture<DirectResponse>? {
        let loop = request.eventLoop
        guard gate.isOpen else { return loop.makeFailedFuture(DatabaseGate.closed) }
        let headers = request.head.headers
        let principal: Principal
        let publication: Publication
        do {
            principal = try BearerAuthenticator.principal(
                authorization: headers.first(name: .authorization), verifier: verifier)
            guard membership.isFresh(principal) else { return nil }
            publication = try parser.parse(
                body: request.body, idempotencyHeader: headers.first(name: Self.idempotencyHeader),
                publisher: principal.userID)
            switch PublishPolicy.verdict(principal, to: publication.target) {
            case .allowed: break
            case .refused(let error): throw error
            case .dependsOnMembership: return nil
            }
        } catch {
            return loop.makeFailedFuture(error)
        }
        guard PublishStore.groupCommits(publication) else { return nil }
        let answer = loop.makePromise(of: DirectResponse.self)
        publisher.publishInBatch(publication) { [metrics] result in
            switch result {
            case .success(let id):
                metrics.published(1)
                answer.succeed(Self.answer(PublishResult(ids: [id], replayed: false, replaced: [])))
            case .failure(let error):
                answer.fail(error)
            }
        }
        return answer.futureResult
    }

    /// `201 {"ids": [...]}`, with `Idempotent-Replayed: true` when the ids are an earlier request's.
    static func answer(_ result: PublishResult) -> DirectResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("ids")
        writer.ints(result.ids)
        writer.endObject()
        var response = DirectResponse(json: .created, writer)
        if result.replayed { response.headers.add(name: "Idempotent-Replayed", value: "true") }
        return response
    }
}
