package net.swarming.indexer.internal.sink.elasticsearch;

import co.elastic.clients.elasticsearch._types.ElasticsearchException;

/**
 * Elasticsearch refused the indexer's credentials (HTTP 401) or their privileges (HTTP 403). An operator fixes that
 * (a new password or API key, a role), so the documents are kept in the spool and sent again, never dropped; the
 * message says which options to check.
 */
final class CredentialsRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CredentialsRefusedException(ElasticsearchException refusal) {
        super(describe(refusal), refusal);
    }

    /** True for the statuses this exception stands for: 401 and 403. */
    static boolean isRefusal(ElasticsearchException e) {
        return e.status() == 401 || e.status() == 403;
    }

    private static String describe(ElasticsearchException e) {
        String reason = e.error() != null && e.error().reason() != null ? e.error().reason() : e.getMessage();
        return e.status() == 401
                ? "Elasticsearch refused the credentials (HTTP 401: " + reason + "); check --elasticsearch-username "
                        + "and --elasticsearch-password, or --elasticsearch-api-key"
                : "Elasticsearch denied the request (HTTP 403: " + reason + "); the user or API key lacks a "
                        + "privilege the indexer needs (manage_index_templates, create_doc on the swarm-* streams)";
    }

    /** The message alone: it is logged as the cause of an unavailable Elasticsearch. */
    @Override
    public String toString() {
        return getMessage();
    }
}
