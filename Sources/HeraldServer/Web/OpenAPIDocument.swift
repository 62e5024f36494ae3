/// The OpenAPI 3.1 document of what this server implements, served at `/openapi.json`. It is written by hand and
/// held to the routes by tests: `OpenAPITests` compares its operations with the router's, and schemathesis checks
/// the server's answers against it. The notification types and the version are filled in at start-up, so the
/// document shows this deployment's `NOTIFICATION_TYPES`.
enum OpenAPIDocument {
    static func render(notificationTypes: Set<String>, version: String) -> String {
        let types = notificationTypes.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
        return template.replacingOccurrences(of: "\"__NOTIFICATION_TYPES__\"", with: "[\(types)]")
            .replacingOccurrences(of: "__VERSION__", with: version)
    }

    static let template = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "Herald",
            "version": "__VERSION__",
            "description": "Real-time notifications: a REST inbox over PostgreSQL and one WebSocket per browser at `/api/v1/ws`. The WebSocket protocol (SPEC \u00a74) is described on the `/api/v1/ws` operation; this document covers HTTP."
          },
          "servers": [
            {
              "url": "/"
            }
          ],
          "tags": [
            {
              "name": "inbox"
            },
            {
              "name": "publish"
            },
            {
              "name": "realtime"
            },
            {
              "name": "operations"
            }
          ],
          "components": {
            "securitySchemes": {
              "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT"
              }
            },
            "schemas": {
              "Identifier": {
                "oneOf": [
                  {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "pattern": "^[^\\u0000]*$"
                  },
                  {
                    "type": "integer",
                    "minimum": -9223372036854775808,
                    "maximum": 9223372036854775807
                  }
                ],
                "description": "A string id; a JSON integer is read as its decimal string."
              },
              "Data": {
                "type": "object",
                "propertyNames": {
                  "pattern": "^[^\\u0000]*$"
                },
                "additionalProperties": {
                  "$ref": "#/components/schemas/JSONValue"
                },
                "description": "Any JSON object of at most 32 KiB, without U+0000 (PostgreSQL's jsonb cannot store it)."
              },
              "JSONValue": {
                "anyOf": [
                  {
                    "type": "string",
                    "pattern": "^[^\\u0000]*$"
                  },
                  {
                    "type": "number"
                  },
                  {
                    "type": "boolean"
                  },
                  {
                    "type": "null"
                  },
                  {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/JSONValue"
                    }
                  },
                  {
                    "type": "object",
                    "propertyNames": {
                      "pattern": "^[^\\u0000]*$"
                    },
                    "additionalProperties": {
                      "$ref": "#/components/schemas/JSONValue"
                    }
                  }
                ]
              },
              "Error": {
                "type": "object",
                "required": [
                  "detail"
                ],
                "properties": {
                  "detail": {
                    "type": "string"
                  }
                }
              },
              "ValidationError": {
                "type": "object",
                "required": [
                  "detail"
                ],
                "properties": {
                  "detail": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "loc",
                        "msg",
                        "type"
                      ],
                      "properties": {
                        "loc": {
                          "type": "array",
                          "items": {
                            "oneOf": [
                              {
                                "type": "string"
                              },
                              {
                                "type": "integer"
                              }
                            ]
                          }
                        },
                        "msg": {
                          "type": "string"
                        },
                        "type": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              },
              "Notification": {
                "type": "object",
                "required": [
                  "id",
                  "type",
                  "priority",
                  "title",
                  "message",
                  "data",
                  "is_read",
                  "read_at",
                  "created_at",
                  "action_url",
                  "location_id",
                  "expires_at",
                  "delivered_at"
                ],
                "properties": {
                  "id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "type": {
                    "type": "string"
                  },
                  "priority": {
                    "type": "string",
                    "enum": [
                      "low",
                      "medium",
                      "high",
                      "urgent"
                    ]
                  },
                  "title": {
                    "type": "string"
                  },
                  "message": {
                    "type": "string"
                  },
                  "data": {
                    "type": "object"
                  },
                  "is_read": {
                    "type": "boolean"
                  },
                  "read_at": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time"
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "action_url": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "location_id": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "Set for location notifications."
                  },
                  "expires_at": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time"
                  },
                  "delivered_at": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time"
                  },
                  "collapse_key": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                }
              },
              "PublishRequest": {
                "type": "object",
                "allOf": [
                  {
                    "oneOf": [
                      {
                        "required": [
                          "user_id"
                        ],
                        "properties": {
                          "user_id": {
                            "$ref": "#/components/schemas/Identifier"
                          }
                        }
                      },
                      {
                        "required": [
                          "user_ids"
                        ],
                        "properties": {
                          "user_ids": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 1000,
                            "items": {
                              "$ref": "#/components/schemas/Identifier"
                            }
                          }
                        }
                      },
                      {
                        "required": [
                          "location_id"
                        ],
                        "properties": {
                          "location_id": {
                            "$ref": "#/components/schemas/Identifier"
                          }
                        }
                      },
                      {
                        "required": [
                          "broadcast"
                        ],
                        "properties": {
                          "broadcast": {
                            "const": true
                          }
                        }
                      }
                    ],
                    "description": "Exactly one target: `user_id`, `user_ids`, `location_id` or `broadcast: true`. Optional fields that are `null` count as absent."
                  }
                ],
                "required": [
                  "type",
                  "title",
                  "message"
                ],
                "properties": {
                  "user_id": {
                    "anyOf": [
                      {
                        "$ref": "#/components/schemas/Identifier"
                      },
                      {
                        "type": "null"
                      }
                    ]
                  },
                  "user_ids": {
                    "anyOf": [
                      {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1000,
                        "items": {
                          "$ref": "#/components/schemas/Identifier"
                        }
                      },
                      {
                        "type": "null"
                      }
                    ]
                  },
                  "location_id": {
                    "anyOf": [
                      {
                        "$ref": "#/components/schemas/Identifier"
                      },
                      {
                        "type": "null"
                      }
                    ]
                  },
                  "broadcast": {
                    "type": [
                      "boolean",
                      "null"
                    ]
                  },
                  "type": {
                    "type": "string",
                    "enum": "__NOTIFICATION_TYPES__"
                  },
                  "priority": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "enum": [
                      "low",
                      "medium",
                      "high",
                      "urgent",
                      null
                    ],
                    "default": "medium"
                  },
                  "title": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "pattern": "^[^\\u0000]*$"
                  },
                  "message": {
                    "type": "string",
                    "minLength": 0,
                    "maxLength": 1000,
                    "pattern": "^[^\\u0000]*$"
                  },
                  "data": {
                    "anyOf": [
                      {
                        "$ref": "#/components/schemas/Data"
                      },
                      {
                        "type": "null"
                      }
                    ]
                  },
                  "action_url": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "minLength": 0,
                    "maxLength": 500,
                    "pattern": "^[^\\u0000]*$"
                  },
                  "collapse_key": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "minLength": 1,
                    "maxLength": 200,
                    "pattern": "^[^\\u0000]*$",
                    "description": "A newer notification with the same key replaces the older one for each recipient."
                  },
                  "expires_at": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "format": "date-time",
                    "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
                    "description": "After this the notification is neither listed, counted nor delivered (a time already past is accepted and never shown)."
                  },
                  "idempotency_key": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "minLength": 1,
                    "maxLength": 200,
                    "pattern": "^[^\\u0000]*$",
                    "description": "Or the Idempotency-Key header, which wins if both are given; the same key from the same publisher returns the first result and stores nothing new."
                  }
                }
              },
              "PublishResponse": {
                "type": "object",
                "required": [
                  "ids"
                ],
                "properties": {
                  "ids": {
                    "type": "array",
                    "items": {
                      "type": "integer",
                      "format": "int64"
                    }
                  }
                }
              },
              "EventRequest": {
                "type": "object",
                "allOf": [
                  {
                    "oneOf": [
                      {
                        "required": [
                          "user_id"
                        ],
                        "properties": {
                          "user_id": {
                            "$ref": "#/components/schemas/Identifier"
                          }
                        }
                      },
                      {
                        "required": [
                          "user_ids"
                        ],
                        "properties": {
                          "user_ids": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 1000,
                            "items": {
                              "$ref": "#/components/schemas/Identifier"
                            }
                          }
                        }
                      },
                      {
                        "required": [
                          "location_id"
                        ],
                        "properties": {
                          "location_id": {
                            "$ref": "#/components/schemas/Identifier"
                          }
                        }
                      },
                      {
                        "required": [
                          "broadcast"
                        ],
                        "properties": {
                          "broadcast": {
                            "const": true
                          }
                        }
                      }
                    ],
                    "description": "Exactly one target: `user_id`, `user_ids`, `location_id` or `broadcast: true`. Optional fields that are `null` count as absent."
                  }
                ],
                "required": [
                  "event_type"
                ],
                "properties": {
                  "user_id": {
                    "anyOf": [
                      {
                        "$ref": "#/components/schemas/Identifier"
                      },
                      {
                        "type": "null"
                      }
                    ]
                  },
                  "user_ids": {
                    "anyOf": [
                      {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1000,
                        "items": {
                          "$ref": "#/components/schemas/Identifier"
                        }
                      },
                      {
                        "type": "null"
                      }
                    ]
                  },
                  "location_id": {
                    "anyOf": [
                      {
                        "$ref": "#/components/schemas/Identifier"
                      },
                      {
                        "type": "null"
                      }
                    ]
                  },
                  "broadcast": {
                    "type": [
                      "boolean",
                      "null"
                    ]
                  },
                  "event_type": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 64
                  },
                  "data": {
                    "anyOf": [
                      {
                        "$ref": "#/components/schemas/Data"
                      },
                      {
                        "type": "null"
                      }
                    ],
                    "description": "At most 7,000 bytes of JSON."
                  }
                }
              },
              "EventResponse": {
                "type": "object",
                "required": [
                  "delivered"
                ],
                "properties": {
                  "delivered": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Sockets on this instance that took the event."
                  }
                }
              },
              "Count": {
                "type": "object",
                "required": [
                  "count"
                ],
                "properties": {
                  "count": {
                    "type": "integer",
                    "minimum": 0
                  }
                }
              },
              "Status": {
                "type": "object",
                "required": [
                  "status",
                  "connections",
                  "instance",
                  "database"
                ],
                "properties": {
                  "status": {
                    "const": "active"
                  },
                  "connections": {
                    "type": "object",
                    "required": [
                      "total_users",
                      "total_connections",
                      "by_location"
                    ],
                    "properties": {
                      "total_users": {
                        "type": "integer"
                      },
                      "total_connections": {
                        "type": "integer"
                      },
                      "by_location": {
                        "type": "object",
                        "additionalProperties": {
                          "type": "integer"
                        }
                      }
                    }
                  },
                  "instance": {
                    "type": "object",
                    "required": [
                      "id",
                      "uptime",
                      "version",
                      "listener"
                    ],
                    "properties": {
                      "id": {
                        "type": "string"
                      },
                      "uptime": {
                        "type": "number",
                        "description": "Seconds."
                      },
                      "version": {
                        "type": "string"
                      },
                      "listener": {
                        "type": "string",
                        "enum": [
                          "listening",
                          "down"
                        ]
                      }
                    }
                  },
                  "database": {
                    "type": "string",
                    "enum": [
                      "ok",
                      "down"
                    ]
                  }
                }
              },
              "Liveness": {
                "type": "object",
                "required": [
                  "status"
                ],
                "properties": {
                  "status": {
                    "const": "ok"
                  }
                }
              },
              "Readiness": {
                "type": "object",
                "required": [
                  "status",
                  "database",
                  "listener"
                ],
                "properties": {
                  "status": {
                    "type": "string",
                    "enum": [
                      "ready",
                      "not_ready"
                    ]
                  },
                  "database": {
                    "type": "string",
                    "enum": [
                      "ok",
                      "down"
                    ]
                  },
                  "listener": {
                    "type": "string",
                    "enum": [
                      "listening",
                      "down"
                    ]
                  }
                }
              }
            },
            "responses": {
              "Unauthorized": {
                "description": "Missing, malformed or expired token, bad signature, unknown `kid` or wrong algorithm.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Forbidden": {
                "description": "The caller's role may not publish to this target.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "NotFound": {
                "description": "No such notification for this caller.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "ValidationFailed": {
                "description": "Invalid parameters or body, in FastAPI's shape.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/ValidationError"
                    }
                  }
                }
              },
              "TooLarge": {
                "description": "The body is larger than the route accepts.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              },
              "Unavailable": {
                "description": "PostgreSQL is unreachable; retry (publishes with an idempotency key are safe to retry).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    }
                  }
                }
              }
            }
          },
          "paths": {
            "/api/v1/notifications": {
              "get": {
                "tags": [
                  "inbox"
                ],
                "summary": "The caller's inbox, newest first",
                "responses": {
                  "200": {
                    "description": "A page of notifications.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "array",
                          "items": {
                            "$ref": "#/components/schemas/Notification"
                          }
                        }
                      }
                    },
                    "headers": {
                      "Link": {
                        "description": "`<url>; rel=\"next\"` when a full page was returned.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "operationId": "listNotifications",
                "parameters": [
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 100,
                      "default": 50
                    },
                    "description": "Page size."
                  },
                  {
                    "name": "offset",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "integer",
                      "minimum": 0,
                      "maximum": 100000,
                      "default": 0
                    },
                    "description": "Items to skip (prefer `before`)."
                  },
                  {
                    "name": "unread_only",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "boolean",
                      "default": false
                    },
                    "description": "Only unread notifications."
                  },
                  {
                    "name": "type",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 64,
                      "pattern": "^[^\\u0000]*$"
                    },
                    "description": "Only this notification type."
                  },
                  {
                    "name": "priority",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "enum": [
                        "low",
                        "medium",
                        "high",
                        "urgent"
                      ]
                    },
                    "description": "Only this priority."
                  },
                  {
                    "name": "location_id",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 200,
                      "pattern": "^[^\\u0000]*$"
                    },
                    "description": "Only notifications of this location."
                  },
                  {
                    "name": "before",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1,
                      "maximum": 9223372036854775807
                    },
                    "description": "Keyset paging: only ids below this one. The `Link` header carries the next page's URL."
                  }
                ],
                "security": [
                  {
                    "bearer": []
                  }
                ]
              },
              "post": {
                "tags": [
                  "publish"
                ],
                "summary": "Publish a notification",
                "responses": {
                  "201": {
                    "description": "Committed; delivered live to every online recipient.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/PublishResponse"
                        }
                      }
                    },
                    "headers": {
                      "Idempotent-Replayed": {
                        "description": "`true` when an earlier publish with the same key answered.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "operationId": "publishNotification",
                "description": "Admins and backend services (`notifications:publish` scope) may publish anywhere; staff only to users at, or to, their own locations; users not at all.",
                "parameters": [
                  {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 200,
                      "pattern": "^[\\x21-\\x7e]+$"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PublishRequest"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearer": []
                  }
                ]
              },
              "delete": {
                "tags": [
                  "inbox"
                ],
                "summary": "Clear the caller's inbox",
                "responses": {
                  "200": {
                    "description": "Cleared.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "required": [
                            "message",
                            "deleted"
                          ],
                          "properties": {
                            "message": {
                              "const": "All notifications cleared"
                            },
                            "deleted": {
                              "type": "integer",
                              "minimum": 0
                            }
                          }
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "operationId": "clearNotifications",
                "security": [
                  {
                    "bearer": []
                  }
                ]
              }
            },
            "/api/v1/notifications/unread": {
              "get": {
                "tags": [
                  "inbox"
                ],
                "summary": "Unread notifications, newest first",
                "responses": {
                  "200": {
                    "description": "A page of unread notifications.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "array",
                          "items": {
                            "$ref": "#/components/schemas/Notification"
                          }
                        }
                      }
                    },
                    "headers": {
                      "Link": {
                        "description": "`<url>; rel=\"next\"` when a full page was returned.",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "parameters": [
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 100,
                      "default": 50
                    },
                    "description": "Page size."
                  },
                  {
                    "name": "offset",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "integer",
                      "minimum": 0,
                      "maximum": 100000,
                      "default": 0
                    },
                    "description": "Items to skip (prefer `before`)."
                  },
                  {
                    "name": "unread_only",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "boolean",
                      "default": false
                    },
                    "description": "Only unread notifications."
                  },
                  {
                    "name": "type",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 64,
                      "pattern": "^[^\\u0000]*$"
                    },
                    "description": "Only this notification type."
                  },
                  {
                    "name": "priority",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "enum": [
                        "low",
                        "medium",
                        "high",
                        "urgent"
                      ]
                    },
                    "description": "Only this priority."
                  },
                  {
                    "name": "location_id",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 200,
                      "pattern": "^[^\\u0000]*$"
                    },
                    "description": "Only notifications of this location."
                  },
                  {
                    "name": "before",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1,
                      "maximum": 9223372036854775807
                    },
                    "description": "Keyset paging: only ids below this one. The `Link` header carries the next page's URL."
                  }
                ],
                "security": [
                  {
                    "bearer": []
                  }
                ]
              }
            },
            "/api/v1/notifications/unread-count": {
              "get": {
                "tags": [
                  "inbox"
                ],
                "summary": "The caller's unread count",
                "responses": {
                  "200": {
                    "description": "The count.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Count"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "security": [
                  {
                    "bearer": []
                  }
                ]
              }
            },
            "/api/v1/notifications/read-all": {
              "put": {
                "tags": [
                  "inbox"
                ],
                "summary": "Mark all visible notifications read",
                "responses": {
                  "200": {
                    "description": "Marked.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "required": [
                            "message",
                            "updated"
                          ],
                          "properties": {
                            "message": {
                              "const": "All notifications marked as read"
                            },
                            "updated": {
                              "type": "integer",
                              "minimum": 0
                            }
                          }
                        }
                      }
                    }
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "parameters": [
                  {
                    "name": "type",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 64,
                      "pattern": "^[^\\u0000]*$"
                    },
                    "description": "Only this type."
                  },
                  {
                    "name": "location_id",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 200,
                      "pattern": "^[^\\u0000]*$"
                    },
                    "description": "Only this location."
                  },
                  {
                    "name": "before",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1,
                      "maximum": 9223372036854775807
                    },
                    "description": "Only ids below this one."
                  }
                ],
                "security": [
                  {
                    "bearer": []
                  }
                ]
              }
            },
            "/api/v1/notifications/{notification_id}/read": {
              "put": {
                "tags": [
                  "inbox"
                ],
                "summary": "Mark one notification read",
                "responses": {
                  "200": {
                    "description": "Done.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "required": [
                            "message"
                          ],
                          "properties": {
                            "message": {
                              "type": "string",
                              "const": "Notification marked as read"
                            }
                          }
                        }
                      }
                    }
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "operationId": "markRead",
                "parameters": [
                  {
                    "name": "notification_id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1,
                      "maximum": 9223372036854775807
                    }
                  }
                ],
                "security": [
                  {
                    "bearer": []
                  }
                ]
              }
            },
            "/api/v1/notifications/{notification_id}/unread": {
              "put": {
                "tags": [
                  "inbox"
                ],
                "summary": "Mark one notification unread",
                "responses": {
                  "200": {
                    "description": "Done.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "required": [
                            "message"
                          ],
                          "properties": {
                            "message": {
                              "type": "string",
                              "const": "Notification marked as unread"
                            }
                          }
                        }
                      }
                    }
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "operationId": "markUnread",
                "parameters": [
                  {
                    "name": "notification_id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1,
                      "maximum": 9223372036854775807
                    }
                  }
                ],
                "security": [
                  {
                    "bearer": []
                  }
                ]
              }
            },
            "/api/v1/notifications/{notification_id}": {
              "delete": {
                "tags": [
                  "inbox"
                ],
                "summary": "Delete one notification for the caller",
                "responses": {
                  "200": {
                    "description": "Deleted.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "required": [
                            "message"
                          ],
                          "properties": {
                            "message": {
                              "type": "string",
                              "const": "Notification deleted"
                            }
                          }
                        }
                      }
                    }
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "operationId": "deleteNotification",
                "parameters": [
                  {
                    "name": "notification_id",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1,
                      "maximum": 9223372036854775807
                    }
                  }
                ],
                "security": [
                  {
                    "bearer": []
                  }
                ]
              }
            },
            "/api/v1/events": {
              "post": {
                "tags": [
                  "publish"
                ],
                "summary": "Send an ephemeral event to online sockets",
                "responses": {
                  "202": {
                    "description": "Sent; not stored.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/EventResponse"
                        }
                      }
                    }
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "413": {
                    "$ref": "#/components/responses/TooLarge"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "503": {
                    "$ref": "#/components/responses/Unavailable"
                  }
                },
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/EventRequest"
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearer": []
                  }
                ]
              }
            },
            "/api/v1/ws": {
              "get": {
                "tags": [
                  "realtime"
                ],
                "summary": "Open the notification WebSocket",
                "responses": {
                  "101": {
                    "description": "Switching protocols. Token problems close the socket with 4401 after the upgrade, since a browser cannot read an HTTP status."
                  },
                  "400": {
                    "description": "Not a WebSocket upgrade request.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        }
                      }
                    }
                  }
                },
                "description": "JSON text frames. Server: connection, notification, inbox, event, pong, subscribed, auth_ok, reset, error. Client: ping, subscribe, unsubscribe, ack, resume, auth. Close codes: 4401 token, 4403 forbidden, 4409 replaced, 4429 limit, 1001 going away, 1008 policy, 1009 too big, 1011 internal.",
                "parameters": [
                  {
                    "name": "token",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string"
                    },
                    "description": "The JWT (browsers cannot set headers on a WebSocket)."
                  },
                  {
                    "name": "since",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 0
                    },
                    "description": "Resume: replay every notification with a larger id first."
                  }
                ]
              }
            },
            "/api/v1/ws/status": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "Sockets, instance and database state",
                "responses": {
                  "200": {
                    "description": "Status.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Status"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/health/live": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "Liveness: the process answers",
                "responses": {
                  "200": {
                    "description": "Alive.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Liveness"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/health/ready": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "Readiness: PostgreSQL answers and the NOTIFY listener is in place",
                "responses": {
                  "200": {
                    "description": "Ready.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Readiness"
                        }
                      }
                    }
                  },
                  "503": {
                    "description": "Not ready.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Readiness"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/api/v1/metrics": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "Prometheus metrics",
                "responses": {
                  "200": {
                    "description": "Prometheus text format 0.0.4.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/health/live": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "Liveness: the process answers",
                "responses": {
                  "200": {
                    "description": "Alive.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Liveness"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/health/ready": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "Readiness: PostgreSQL answers and the NOTIFY listener is in place",
                "responses": {
                  "200": {
                    "description": "Ready.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Readiness"
                        }
                      }
                    }
                  },
                  "503": {
                    "description": "Not ready.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Readiness"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/metrics": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "Prometheus metrics",
                "responses": {
                  "200": {
                    "description": "Prometheus text format 0.0.4.",
                    "content": {
                      "text/plain": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/openapi.json": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "This document",
                "responses": {
                  "200": {
                    "description": "OpenAPI 3.1.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/docs": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "This document, rendered",
                "responses": {
                  "200": {
                    "description": "HTML.",
                    "content": {
                      "text/html": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/demo": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "A demo inbox that uses herald.js",
                "responses": {
                  "200": {
                    "description": "HTML. Pass a token as `#token=...`.",
                    "content": {
                      "text/html": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/herald.js": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "The browser client, an ES module",
                "responses": {
                  "200": {
                    "description": "JavaScript.",
                    "content": {
                      "text/javascript": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/docs.js": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "The script of /docs",
                "responses": {
                  "200": {
                    "description": "JavaScript.",
                    "content": {
                      "text/javascript": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            },
            "/demo.js": {
              "get": {
                "tags": [
                  "operations"
                ],
                "summary": "The script of /demo",
                "responses": {
                  "200": {
                    "description": "JavaScript.",
                    "content": {
                      "text/javascript": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
        """#
}
