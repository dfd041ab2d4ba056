import { type Schema, Validator } from "@cfworker/json-schema";

/**
 * A checker of delivered bodies against one JSON Schema per event type (draft 2020-12), as a site
 * in any language would run it on the raw text: what is wrong with a body, or an empty list.
 */
export function schemaChecker(schemas: Record<string, object>): (body: string) => string[] {
  const validators = new Map(Object.entries(schemas).map(([type, schema]) => [type, new Validator(schema as Schema, "2020-12", false)]));
  return (body) => {
    // JSON.parse reads 2.0 as 2, so the float a Go or Rust receiver refuses is caught on the raw text.
    if (/"version":\s*-?\d+[.eE]/.test(body)) return ["data.version is not written as a JSON integer"];
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return ["the body is not JSON"];
    }
    const type = typeof parsed === "object" && parsed !== null ? (parsed as { type?: unknown }).type : undefined;
    const validator = typeof type === "string" ? validators.get(type) : undefined;
    if (!validator) return [`no published schema for type ${JSON.stringify(type)}`];
    const result = validator.validate(parsed);
    if (result.valid) return [];
    // The innermost errors say what is wrong; the outer ones only that something below is.
    return result.errors
      .filter((e) => !/^(properties|\$ref|allOf|anyOf|items|prefixItems)$/.test(e.keyword))
      .map((e) => `${type}: ${e.instanceLocation} ${e.error}`);
  };
}
