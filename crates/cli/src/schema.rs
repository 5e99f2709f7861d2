//! `redirects schema`: a JSON Schema (draft-07) for rules.json, so editors complete and check
//! rules. The engine's validation stays the authority; the schema catches shape mistakes early.

use crate::bundle::CmdResult;
use crate::Status;
use serde_json::{json, Value};

/// Runs the command.
pub fn run() -> CmdResult {
    println!(
        "{}",
        serde_json::to_string_pretty(&schema()).expect("the schema serialises")
    );
    Ok(Status::Ok)
}

/// The schema document.
pub fn schema() -> Value {
    let string_map = json!({
        "type": "object",
        "additionalProperties": { "type": "string" },
        "description": "name → exact value or glob (`*` matches any run of characters; \"*\" alone: present with any value)"
    });
    let code_list = |description: &str, pattern: &str| {
        json!({
            "type": "array", "minItems": 1, "description": description,
            "items": { "type": "string", "pattern": pattern }
        })
    };
    let conditions = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "after": {
                "type": "string", "format": "date-time",
                "description": "RFC 3339 instant with an offset, whole seconds (2026-12-24T09:00:00Z): holds from this instant on (inclusive)"
            },
            "before": {
                "type": "string", "format": "date-time",
                "description": "RFC 3339 instant with an offset, whole seconds: holds until this instant (exclusive)"
            },
            "query": {
                "type": "object",
                "additionalProperties": { "type": "string" },
                "description": "query parameter → exact value, glob, \"*\" (present), or \":name\" (present; captured as placeholder `name`, in `when` only)"
            },
            "header": string_map.clone(),
            "cookie": string_map,
            "country": code_list("ISO 3166-1 alpha-2 codes, e.g. DE", "^[A-Za-z]{2}$"),
            "continent": {
                "type": "array", "minItems": 1, "description": "continent codes",
                "items": { "type": "string", "enum": ["AF", "AN", "AS", "EU", "NA", "OC", "SA"] }
            },
            "region": code_list("ISO 3166-2 subdivision codes as cf.regionCode gives them, e.g. CA", "^[A-Za-z0-9]{1,3}$"),
            "city": { "type": "array", "minItems": 1, "items": { "type": "string", "minLength": 1 }, "description": "city names as cf.city gives them" },
            "language": code_list("primary language subtags; holds when the visitor's first acceptable language is listed", "^[A-Za-z]{2,8}$"),
            "ip": {
                "type": "array", "minItems": 1, "maxItems": 100_000,
                "description": "IPv4/IPv6 addresses and CIDR ranges (192.0.2.0/24, 2001:db8::/32), matched against CF-Connecting-IP only; IPv4-mapped IPv6 counts as IPv4",
                "items": { "type": "string", "pattern": "^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$" }
            },
            "asn": {
                "type": "array", "minItems": 1,
                "description": "autonomous system numbers (cf.asn), e.g. 13335",
                "items": { "type": "integer", "minimum": 0, "maximum": 4_294_967_295_u64 }
            }
        }
    });
    let status = json!({
        "enum": [301, 302, 303, 307, 308],
        "description": "default: 307 with split, geo/language/ip/asn conditions or a time window in `when`, 303 with forward or only unsafe methods, else 308"
    });
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "edge-redirects rule bundle (rules.json, version 1)",
        "type": "object",
        "required": ["version", "rules"],
        "additionalProperties": false,
        "properties": {
            "$schema": { "type": "string" },
            "version": { "const": 1 },
            "settings": { "$ref": "#/definitions/settings" },
            "rules": { "type": "array", "items": { "$ref": "#/definitions/rule" } }
        },
        "definitions": {
            "settings": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "preserve_query": { "type": "boolean", "default": true, "description": "carry the request's query string over to the target" },
                    "case_sensitive": { "type": "boolean", "default": true, "description": "path literals match case-sensitively" },
                    "trailing_slash": { "enum": ["ignore", "remove", "strict", "exact"], "default": "ignore", "description": "ignore: /a and /a/ match alike; remove: alike, and a rest capture never keeps the slash; strict: they differ; exact: they differ and no placeholder takes the slash" },
                    "allowed_hosts": { "type": "array", "items": { "type": "string" }, "default": [], "description": "hosts (exact or *.example.com) a placeholder may produce in a target's host" },
                    "permanent_cache_control": { "type": "string", "default": "public, max-age=86400" },
                    "sticky_max_age": { "type": "integer", "minimum": 0, "default": 2592000 },
                    "debug_header": { "type": "boolean", "default": false, "description": "add X-Redirect-Rule: <rule id>" }
                }
            },
            "conditions": conditions,
            "split": {
                "type": "object",
                "additionalProperties": false,
                "required": ["variants"],
                "properties": {
                    "cookie": { "type": "string", "minLength": 1, "description": "assignment cookie; default ab_<rule id>" },
                    "variants": {
                        "type": "array", "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": false,
                            "required": ["name", "weight", "to"],
                            "properties": {
                                "name": { "type": "string", "minLength": 1 },
                                "weight": { "type": "integer", "minimum": 0 },
                                "to": { "type": ["string", "null"], "description": "null: stay on the origin" }
                            }
                        }
                    }
                }
            },
            "rule": {
                "type": "object",
                "additionalProperties": false,
                "required": ["id", "from"],
                "properties": {
                    "id": { "type": "string", "minLength": 1, "description": "unique; named in errors, explain output and the debug header" },
                    "from": { "type": "string", "pattern": "^/", "description": "path pattern: literals, :name, :name(constraint), :name.suffix, prefix{:name}suffix, :name* or * (last)" },
                    "from_syntax": { "enum": ["path-to-regexp"], "description": "read `from` as a path-to-regexp 6.x source, as Vercel and Next.js do: (re) groups ($1, $2, ... in `to`), (.*), (/?), (/.*)?, {...} groups, ?, * and + after a placeholder or group; absent: the rules.json syntax" },
                    "host": { "type": "string", "description": "example.com or *.example.com" },
                    "methods": { "type": "array", "minItems": 1, "items": { "type": "string", "pattern": "^[A-Za-z]+$" } },
                    "when": { "$ref": "#/definitions/conditions", "description": "conditions that must all hold" },
                    "unless": { "$ref": "#/definitions/conditions", "description": "conditions of which none may hold" },
                    "to": { "type": ["string", "null"], "minLength": 1, "description": "relative or absolute target; :name placeholders; null: the request goes to the origin untouched and no later rule sees it" },
                    "split": { "$ref": "#/definitions/split" },
                    "forward": { "type": "boolean", "description": "Post-Redirect-Get through the origin" },
                    "status": status,
                    "preserve_query": { "type": "boolean" },
                    "case_sensitive": { "type": "boolean", "description": "this rule's literals compare case-sensitively (true) or after lower-casing (false), whatever the bundle's setting" },
                    "headers": { "type": "object", "additionalProperties": { "type": "string" } }
                },
                "anyOf": [
                    { "required": ["to"], "not": { "required": ["split"] } },
                    { "required": ["split"], "not": { "required": ["to"] } },
                    { "required": ["forward"], "not": { "required": ["split"] }, "properties": { "forward": { "const": true } } }
                ]
            }
        }
    })
}
