"""The controlled vocabularies of the talent pool: roles, skill items, engagement types, work modes.

The roles and skill items are OUR OWN LIST, modelled on the structure of IPA's DX推進スキル標準
(DX Promotion Skill Standard, DSS-P: five person types, their roles, and skill items grouped in
business transformation, data utilisation, technology, security and personal skills). We could not
verify the reuse terms of the standard's text here, so no wording is copied from it: the names and
slugs below are ours, written for Kyoso, and may be replaced by the official list once its terms allow.
"""

from __future__ import annotations

from enum import StrEnum

# Role slug -> (Japanese, English). Modelled on DSS-P's person types and their roles.
ROLES: dict[str, tuple[str, str]] = {
    "business-architect": ("ビジネス設計・推進", "Business architect"),
    "service-designer": ("サービスデザイン", "Service designer"),
    "ux-designer": ("UX/UIデザイン", "UX/UI designer"),
    "data-strategist": ("データ活用戦略", "Data strategist"),
    "data-scientist": ("データ分析・AI", "Data scientist"),
    "data-engineer": ("データ基盤", "Data engineer"),
    "software-engineer": ("ソフトウェア開発", "Software engineer"),
    "cloud-engineer": ("クラウド・運用", "Cloud and operations engineer"),
    "security-manager": ("セキュリティ管理", "Security manager"),
    "security-engineer": ("セキュリティ技術", "Security engineer"),
    "cdo-adviser": ("CDO補佐・DX推進アドバイザー", "CDO adviser"),
}

# Skill slug -> (Japanese, English, category). Modelled on DSS-P's skill categories.
SKILLS: dict[str, tuple[str, str, str]] = {
    "dx-strategy": ("DX戦略の立案", "DX strategy", "business"),
    "project-management": ("プロジェクトマネジメント", "Project management", "business"),
    "procurement": ("調達・仕様書作成", "Procurement and specifications", "business"),
    "business-process": ("業務改革（BPR）", "Business process redesign", "business"),
    "change-management": ("組織変革・人材育成", "Change management and training", "business"),
    "service-design": ("サービスデザイン", "Service design", "design"),
    "user-research": ("利用者調査", "User research", "design"),
    "ui-design": ("UIデザイン", "UI design", "design"),
    "accessibility": ("アクセシビリティ", "Accessibility", "design"),
    "data-strategy": ("データ・AIの戦略的活用", "Data and AI strategy", "data"),
    "data-analysis": ("データ分析", "Data analysis", "data"),
    "machine-learning": ("機械学習・AI", "Machine learning and AI", "data"),
    "data-engineering": ("データエンジニアリング", "Data engineering", "data"),
    "open-data": ("オープンデータ", "Open data", "data"),
    "software-development": ("ソフトウェア開発", "Software development", "technology"),
    "frontend": ("フロントエンド開発", "Front-end development", "technology"),
    "backend": ("バックエンド開発", "Back-end development", "technology"),
    "cloud": ("クラウド（ガバメントクラウド等）", "Cloud (incl. government cloud)", "technology"),
    "system-standardisation": ("自治体システム標準化", "Local government system standardisation", "technology"),
    "security-management": ("セキュリティマネジメント", "Security management", "security"),
    "security-engineering": ("セキュリティ技術", "Security engineering", "security"),
    "privacy": ("個人情報保護", "Privacy and data protection", "security"),
    "facilitation": ("ファシリテーション", "Facilitation", "personal"),
    "stakeholder-coordination": ("庁内外の調整", "Stakeholder coordination", "personal"),
}

SKILL_CATEGORIES: dict[str, tuple[str, str]] = {
    "business": ("ビジネス変革", "Business transformation"),
    "design": ("デザイン", "Design"),
    "data": ("データ活用", "Data utilisation"),
    "technology": ("テクノロジー", "Technology"),
    "security": ("セキュリティ", "Security"),
    "personal": ("パーソナルスキル", "Personal skills"),
}


class EngagementType(StrEnum):
    ADVISOR = "advisor"
    REVIEWER = "reviewer"
    PART_TIME_STAFF = "part_time_staff"
    PROJECT_LEAD = "project_lead"


class WorkMode(StrEnum):
    REMOTE = "remote"
    ON_SITE = "on_site"
    EITHER = "either"


# Languages a partner may work in (ISO 639-1).
LANGUAGES = ("ja", "en", "zh", "ko", "vi", "pt", "es", "fr", "de")


def skill_name(slug: str, locale: str) -> str:
    names = SKILLS.get(slug)
    if names is None:
        return slug
    return names[0] if locale == "ja" else names[1]


def role_name(slug: str, locale: str) -> str:
    names = ROLES.get(slug)
    if names is None:
        return slug
    return names[0] if locale == "ja" else names[1]
