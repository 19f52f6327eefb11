export declare const MAX_RETURN_TO_LENGTH: number
export declare function sameOriginPath(raw: unknown, origin: string): string | null
