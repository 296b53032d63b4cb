import KernelJSON
import KernelPlugins
import KernelPostgres

/// `kernel dev producer`: what the certificate flow would leave in the database, made directly,
/// for a development deployment only. A producer (by name, reused when it exists), then `count`
/// subjects `<producer>-<family>-<i>` bound to `family` exactly as a producer's `register` would
/// bind them (the lowest existing version, else version 1 with the serving plugin's payload
/// schema as its body, every binding checked against the plugin). The caller issues the token.
public enum DevelopmentProducer {
    public struct Subject: Sendable, Equatable {
        public var key: String
        public var id: String
        public var schemaID: String
        public var schemaVersion: Int
    }

    public struct Created: Sendable, Equatable {
        public var producerID: String
        public var subjects: [Subject]
    }

    /// Why nothing (or not everything) was made; `message` is for the terminal.
    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static func create(pg: PGConnection, producerName: String, family: String, count: Int,
                              families: [FamilyDescriptor]) throws(Failure) -> Created {
        let producerID: String
        do {
            let r = try pg.query("""
                INSERT INTO producers (name, description) VALUES ($1, 'made by kernel dev producer (development only)')
                ON CONFLICT (name) DO UPDATE SET disabled_at = NULL
                RETURNING producer_id::text
                """, [producerName])
            guard let id = r.scalar else { throw Failure(message: "producer insert returned no row") }
            producerID = id
        } catch let error as Failure {
            throw error
        } catch {
            throw Failure(message: "cannot create producer \(producerName): \(error)")
        }
        // The body a producer of this family would send: the plugin's own payload schema.
        let served = families.first { $0.name == family }
        let bodyText = served?.payloadSchemaJSON ?? #"{"type":"object"}"#
        let body = (try? JSONParser.parse(bodyText)) ?? .object(JSONObject())
        let store = SubjectStore(pg: pg, pluginCheck: PluginSchemaCheck(families: { families }))
        var subjects: [Subject] = []
        for i in 1...max(count, 1) {
            let key = "\(producerName)-\(family)-\(i)"
            do {
                let b = try store.register(producerID: producerID, subjectKey: key, schemaName: family, body: body, attrs: nil)
                subjects.append(Subject(key: key, id: b.subjectID, schemaID: b.schemaID, schemaVersion: b.schemaVersion))
            } catch {
                throw Failure(message: "cannot bind subject \(key) to family \(family): \(error.reason)")
            }
        }
        return Created(producerID: producerID, subjects: subjects)
    }
}
