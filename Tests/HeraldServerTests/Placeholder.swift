import Testing
import AsyncHTTPClient
@Test func placeholder() { #expect(1 == 1) }
