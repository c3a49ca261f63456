"""The accent-folding SQL function shared by migrations 0003 and 0009 (kept in step with
tickets.models.UNACCENT_FROM / UNACCENT_TO)."""

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION acolhe_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT translate($1, 'áàâãäåéèêëíìîïóòôõöúùûüýÿçñÁÀÂÃÄÅÉÈÊËÍÌÎÏÓÒÔÕÖÚÙÛÜÝÇÑ',
                         'aaaaaaeeeeiiiiooooouuuuyycnAAAAAAEEEEIIIIOOOOOUUUUYCN')
$$;
"""
